"""Register the ``notebooks`` marker (headless notebook runs; deselect with -m "not notebooks")."""


def pytest_configure(config):
    config.addinivalue_line("markers", "notebooks: executes a lab notebook headless in quick mode (minutes)")
