from cfgwatch.entry import main

main()
