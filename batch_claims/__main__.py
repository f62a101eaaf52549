from batch_claims.cli import main

main()
