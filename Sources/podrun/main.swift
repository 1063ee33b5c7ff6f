print("podrun")
