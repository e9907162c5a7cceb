from ticketing_auth.cli import main

main()
