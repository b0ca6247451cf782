"""HTTP plumbing the REST API and the web app share: bounded uploads, the session cookie
and CSRF check, the client's address, security headers and the error responses.

Front-end plumbing only: it may use :mod:`faceatlas.services`, never the front ends.
"""
