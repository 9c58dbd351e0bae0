"""Building extensions: ABI options (``abi``), the setuptools plugin
(``plugin``) and the PEP 517 backend (``backend``)."""
