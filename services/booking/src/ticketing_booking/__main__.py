from ticketing_booking.cli import main

main()
