import GruccCore
print("hi")
