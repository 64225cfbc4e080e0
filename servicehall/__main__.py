from servicehall.cli import main

main()
