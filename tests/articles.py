"""The fixture articles of the test suite, in one place (the test data of ../shared is never copied here).

Three short made-up articles with distinct facts, sources and dates (one chunk each), in the
versions the tests were written against: the full ones (chain, fusion, llama.cpp server), a version
without the url and the closing sentence (LLM chain), and a short one (OpenAI stub, CLI).
"""

from __future__ import annotations

from pathlib import Path

# Full versions.
PORT_LUMEN = """---
title: Port Lumen opens desalination plant
date: 2024-03-10
source: Harbor Times
url: https://example.test/port-lumen-desalination
---
Port Lumen opens desalination plant

The city of Port Lumen opened a desalination plant on Monday. The plant produces forty thousand cubic metres of drinking water per day. Mayor Elena Varga cut the ribbon at the opening ceremony. Construction took three years and cost 210 million dollars.

After the ceremony, Mayor Elena Varga flew to Oslo for a conference on water security.
"""

VELORA = """---
title: Velora club signs goalkeeper Tomas Brandt
date: 2024-05-20
source: Sport Daily
---
Velora club signs goalkeeper Tomas Brandt

Velora Football Club signed the goalkeeper Tomas Brandt from Northfield Rovers on Friday. The transfer fee was eleven million euros. Brandt agreed a four-year contract with the club. He will wear the number one shirt next season.
"""

ZAHRAA = """---
title: بلدية الزهراء تفتتح مكتبة عامة جديدة
date: 2024-07-01
source: الوطن
---
بلدية الزهراء تفتتح مكتبة عامة جديدة

افتتحت بلدية الزهراء مكتبة عامة جديدة يوم الخميس. تضم المكتبة خمسين ألف كتاب باللغتين العربية والإنجليزية. وقال رئيس البلدية سمير الخطيب إن المكتبة ستفتح أبوابها كل يوم حتى العاشرة مساء. وبلغت كلفة المشروع ثلاثة ملايين دينار.
"""

ARTICLES = {"port-lumen.md": PORT_LUMEN, "velora.md": VELORA, "zahraa.md": ZAHRAA}


def write_articles(folder: Path, articles: dict[str, str] = ARTICLES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in articles.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# Without the url and the closing sentence (tests/bot/answering/test_chain_llm.py).
PORT_LUMEN_LLM = """---
title: Port Lumen opens desalination plant
date: 2024-03-10
source: Harbor Times
---
Port Lumen opens desalination plant

The city of Port Lumen opened a desalination plant on Monday. The plant produces forty thousand cubic metres of drinking water per day. Mayor Elena Varga cut the ribbon at the opening ceremony. Construction took three years and cost 210 million dollars.
"""

VELORA_LLM = """---
title: Velora club signs goalkeeper Tomas Brandt
date: 2024-05-20
source: Sport Daily
---
Velora club signs goalkeeper Tomas Brandt

Velora Football Club signed the goalkeeper Tomas Brandt from Northfield Rovers on Friday. The transfer fee was eleven million euros. Brandt agreed a four-year contract with the club.
"""

ZAHRAA_LLM = """---
title: بلدية الزهراء تفتتح مكتبة عامة جديدة
date: 2024-07-01
source: الوطن
---
بلدية الزهراء تفتتح مكتبة عامة جديدة

افتتحت بلدية الزهراء مكتبة عامة جديدة يوم الخميس. تضم المكتبة خمسين ألف كتاب باللغتين العربية والإنجليزية. وبلغت كلفة المشروع ثلاثة ملايين دينار.
"""


# Short versions (the OpenAI stub's and the CLI's tests).
PORT_LUMEN_SHORT = """---
title: Port Lumen opens desalination plant
date: 2024-03-10
source: Harbor Times
---
Port Lumen opens desalination plant

The city of Port Lumen opened a desalination plant on Monday. The plant produces forty thousand cubic metres of drinking water per day. Mayor Elena Varga cut the ribbon at the opening ceremony.
"""

VELORA_SHORT = """---
title: Velora club signs goalkeeper Tomas Brandt
date: 2024-05-20
source: Sport Daily
---
Velora club signs goalkeeper Tomas Brandt

Velora Football Club signed the goalkeeper Tomas Brandt from Northfield Rovers on Friday. The transfer fee was eleven million euros.
"""

ZAHRAA_SHORT = """---
title: بلدية الزهراء تفتتح مكتبة عامة جديدة
date: 2024-07-01
source: الوطن
---
بلدية الزهراء تفتتح مكتبة عامة جديدة

افتتحت بلدية الزهراء مكتبة عامة جديدة يوم الخميس. تضم المكتبة خمسين ألف كتاب باللغتين العربية والإنجليزية.
"""


# A ferry terminal opens (the feedback tests).
FERRY_TERMINAL = """---
title: Harbour town opens a new ferry terminal
date: 2024-05-02
source: Coast Herald
---
Harbour town opens a new ferry terminal

The ferry terminal of Kellmouth opened on Thursday after two years of work. It cost twelve million euros, paid by the regional council. The first ferry left for the islands at seven in the morning.
"""
