import Coordinator
CoordinatorCommand.main()
