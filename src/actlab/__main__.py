from actlab.cli.main import main

main()
