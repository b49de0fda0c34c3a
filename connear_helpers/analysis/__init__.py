"""The paper's stimuli, the analyses of responses, the CoNNear CFs and the experimental data.

* :mod:`.cf` – the 201 CoNNear characteristic frequencies and the CF <-> place maps;
* :mod:`.stimuli` – tones, SAM tones, clicks and the evaluation stimuli of spec §2.5;
* :mod:`.sounds` – WAV files and the shipped speech sample; :mod:`.corpus` – the offline TTS corpus;
* :mod:`.metrics` – excitation patterns, AC/DC ratio, level growth, rates, synchrony (spec §2.6);
* :mod:`.experimental_data` – the published data the figures compare against (``sourcedata/``);
* :mod:`.evaluations` – each evaluation of the paper end to end: stimuli, the pipeline, the metrics.

:mod:`.evaluations` is the only module here that runs simulations (through
:mod:`connear_helpers.pipeline`); the others import NumPy/SciPy and each other only.
"""
