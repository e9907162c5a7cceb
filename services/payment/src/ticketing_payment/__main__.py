from ticketing_payment.cli import main

main()
