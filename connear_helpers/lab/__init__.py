"""The lab's interactive side: the ipywidgets panels of the notebooks and the speech quickstart.

* :mod:`.widgets` – one panel per evaluation of the paper (sliders for level, frequency, CF, mode);
* :mod:`.speech` – the shipped sentence, ``load_wav``, the quickstart and its cochleagrams.

May import :mod:`connear_helpers.pipeline`, :mod:`connear_helpers.cnn`,
:mod:`connear_helpers.analysis` and the drawing functions of :mod:`connear_helpers.paper`.
"""
