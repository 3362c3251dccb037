"""Relation cues (bot/answering/relations.py): which questions ask for a relation, which sentences state it."""

from __future__ import annotations

import pytest

from bot.answering.relations import RELATIONS, question_relation

BY_NAME = {r.name: r for r in RELATIONS}


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        ("What is Haftar's date of birth?", "birth"),
        ("Where was the minister born?", "birth"),
        ("متى ولد الكاتب؟", "birth"),
        ("ما هو تاريخ ميلاد الرئيس؟", "birth"),
        ("When did the poet die?", "death"),
        ("في أي عام توفي العالم؟", "death"),
        ("كم عدد الوفيات في الحادث؟", "death"),
        ("What is the capital of Chad?", "capital"),
        ("ما هي عاصمة اليابان؟", "capital"),
        ("What is the population of Benghazi?", "population"),
        ("كم عدد سكان مصر؟", "population"),
        ("What currency does Libya use?", "currency"),
        ("ما هي العملة الرسمية في تونس؟", "currency"),
        # No relation of the list: the check stays out of the way.
        ("Who did Yevkurov meet in Benghazi?", None),
        ("من هو الأمين العام للأمم المتحدة؟", None),
        ("What did Moscow commit to provide?", None),
        ("إلى أين توجه الوزير بعد بنغازي؟", None),
        ("How many books does the new library hold?", None),
    ],
)
def test_question_relation(question: str, relation: str | None) -> None:
    found = question_relation(question)
    assert (found and found.name) == relation


@pytest.mark.parametrize(
    ("relation", "sentence", "stated"),
    [
        ("birth", "He was born in 1943 in Ajdabiya.", True),
        ("birth", "ولد خليفة حفتر عام 1943 في أجدابيا.", True),
        ("birth", "وهو من مواليد مدينة بنغازي.", True),
        ("birth", "ألبرت أينشتاين (14 مارس 1879 - 18 أبريل 1955) عالم فيزياء.", True),
        ("birth", "استقبل القائد العسكري في مدينة بنغازي يوم الأحد 2 يونيو 2024 نائب الوزير.", False),
        ("birth", "Between 1990-1995 the city grew.", False),
        ("birth", "Albert Einstein (b. 1879) was a physicist.", True),
        ("death", "Einstein (d. 1955) worked in Princeton.", True),
        ("death", "ألبرت أينشتاين (14 مارس 1879 - 18 أبريل 1955) عالم فيزياء.", True),
        ("death", "توفي الشاعر في القاهرة.", True),
        ("death", "The poet died in Cairo in 1932.", True),
        ("death", "The poet wrote his last book in Cairo.", False),
        ("capital", "وصل إلى العاصمة التشادية أنجامينا.", True),
        ("capital", "Niamey, the capital of Niger.", True),
        ("capital", "اليابان بلد في شرق آسيا يقع بين المحيط الهادئ وبحر اليابان.", False),
        ("population", "يبلغ عدد سكانها نحو سبعة ملايين نسمة.", True),
        ("population", "The city has 650,000 inhabitants.", True),
        ("population", "The river crosses the city from north to south.", False),
        ("currency", "The Libyan dinar is the currency of Libya.", True),
        ("currency", "تستخدم البلاد الدينار عملة رسمية.", True),
        ("currency", "The bank opened a new branch.", False),
    ],
)
def test_stated_in(relation: str, sentence: str, stated: bool) -> None:
    assert BY_NAME[relation].stated_in(sentence) is stated
