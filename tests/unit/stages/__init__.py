# A package: its test modules share names with modules of tests/unit (test_dedup, test_verify),
# which test the pure logic the stages call.
