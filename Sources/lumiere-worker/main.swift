print("lumiere-worker")
