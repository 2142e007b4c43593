pytest_plugins = ["tests.fakes.fixtures", "tests.verify_world"]
