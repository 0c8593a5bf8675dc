import importlib.resources


def main():
    tmpl = importlib.resources.files("pjb_scripts").joinpath("templates/hello.tmpl").read_text()
    print(tmpl.format(who="console script"), end="")


def gui():
    print("gui entry point")
