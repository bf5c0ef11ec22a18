azs = ["a", "b"]
[tags]
Name = "x"
