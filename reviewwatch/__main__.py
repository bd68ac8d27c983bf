from reviewwatch.cli import main

main()
