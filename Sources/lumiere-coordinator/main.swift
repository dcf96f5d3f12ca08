print("lumiere-coordinator")
