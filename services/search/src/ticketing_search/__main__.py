from ticketing_search.cli import main

main()
