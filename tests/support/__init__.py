"""Real peers for tests and benchmarks, importable as ``support.*`` (tests/ is on sys.path).

- ``support.databases``: SQLite and PostgreSQL fixtures.
- ``support.lab``: the loopback world for diagnostics (nsd, unbound, aiosmtpd), with
  ``support.dnsservers``, ``support.smtpd`` and ``support.net`` as its parts;
  ``support.fixtures`` holds its pytest fixtures::

      with Lab.running(tmp_path) as lab:
          config = lab.config(budget_s=1.5)
          diagnosis = await Diagnostician(config).run(lab.domains.healthy)
"""
