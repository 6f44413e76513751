"""Tenant offboarding: export a whole organisation, then terminate it after a notice period.

Termination crypto-shreds the organisation's data key, deletes its rows and stored files and
keeps a certificate of deletion in a platform-level record (``Termination``) that outlives it.
"""
