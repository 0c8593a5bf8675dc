class Plugin:
    name = "default"
