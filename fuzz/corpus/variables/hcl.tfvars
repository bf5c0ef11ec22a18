azs = ["a", "b"]
tags = { Name = "x", Env = "dev" }
count = 3
enabled = true
nested = { a = "s", b = [1, 2] }
