from cfgwatch.cli import main

main()
