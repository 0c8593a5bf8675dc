NAME = "plugin"
