from ticketing_events.cli import main

main()
