import results


def pytest_sessionfinish(session):
    results.write()
