from ticketing_inventory.cli import main

main()
