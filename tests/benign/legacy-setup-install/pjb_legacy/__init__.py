def main():
    print("pjb-legacy")
