from ticketing_loadtest.cli import main

main()
