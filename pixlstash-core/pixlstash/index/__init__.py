"""Vector and perceptual-hash indexes, and the searches over them: ``vector_index`` (usearch indexes,
caches of the vectors in ``library.db``), ``search`` (semantic, similar and face search), ``carry``
(carrying indexes over a full restore) and ``near_duplicates`` (perceptual-hash groups)."""
