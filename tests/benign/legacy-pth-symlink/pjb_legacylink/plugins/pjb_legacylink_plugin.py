NAME = "linked"
