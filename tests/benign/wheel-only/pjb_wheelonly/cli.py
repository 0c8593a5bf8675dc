def main():
    print("pjb-wheelonly console script")
