STATE = "editable"
