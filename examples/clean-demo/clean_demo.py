def hello():
    return "hello from clean-demo"
