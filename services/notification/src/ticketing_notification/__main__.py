from ticketing_notification.cli import main

main()
