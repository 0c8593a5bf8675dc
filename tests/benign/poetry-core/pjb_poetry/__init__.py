def main():
    print("pjb-poetry works")
