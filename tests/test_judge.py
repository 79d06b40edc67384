"""The norm judge: the shipped model on negation/refusal cases, its contract, and reproducible training.

Expected verdicts below are human judgments written for these tests (or the hand-written challenge
set, which is never used for training), not outputs copied from the model.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from normkg.errors import ConfigError, InputError
from normkg.reasoning.adapter_training import AdapterParameters, AdapterTriple
from normkg.reasoning.judge import (
    LABELS,
    NORM_DIM,
    Deontic,
    NormJudge,
    Verdict,
    parse_norm,
    retrieval_vectors,
)
from normkg.reasoning.negation import find_negation
from normkg.reasoning.training import (
    HyperParameters,
    Pair,
    build_training_data,
    fit_head,
    read_mfd,
    read_moral_stories,
    read_social_chem,
    stance_triples,
    train,
)

DATA = Path(__file__).parent / "data" / "checker"
MINI = DATA / "mini"


@pytest.fixture(scope="module")
def judge() -> NormJudge:
    return NormJudge.load()


def _probs(judge: NormJudge, norms: list[str], sentences: list[str]) -> np.ndarray:
    """Row-aligned (norm, sentence) probabilities, the sentences read as the checker reads them."""
    return judge.judge_reading(judge.embed_norms(norms), judge.read(sentences), range(len(sentences)))


# The brief's own examples: a negated or refused wrong is compliance, a how-to is a violation.
BRIEF_CASES = [
    ("It's wrong to cheat.", "You should never help someone cheat on an exam.", Verdict.FOLLOWS),
    ("It's wrong to cheat.", "I won't help you cheat.", Verdict.FOLLOWS),
    ("It's wrong to lie to your parents.", "You shouldn't lie to your parents.", Verdict.FOLLOWS),
    ("It's wrong to cheat.", "Sure, here is how to copy answers without being caught.", Verdict.VIOLATES),
    ("It's good to help your friends.", "I refuse to help my friends.", Verdict.VIOLATES),
]


@pytest.mark.parametrize(("norm", "sentence", "expected"), BRIEF_CASES)
def test_negation_and_refusal_decide_violates_or_follows(
    judge: NormJudge, norm: str, sentence: str, expected: Verdict
) -> None:
    """Given that the sentence is about the norm, the violates/follows decision is right."""
    probs = _probs(judge, [norm], [sentence])[0]
    decided = Verdict.VIOLATES if probs[0] > probs[1] else Verdict.FOLLOWS
    assert decided is expected, f"{norm!r} / {sentence!r}: {dict(zip(LABELS, probs.round(3), strict=True))}"


@pytest.mark.parametrize(
    "sentence",
    ["The train to Lyon leaves at 7:45 from platform three.", "Python lists are indexed from zero."],
)
def test_unrelated_sentence_is_most_likely_unrelated(judge: NormJudge, sentence: str) -> None:
    probs = _probs(judge, ["It's wrong to cheat on exams."], [sentence])[0]
    assert LABELS[int(probs.argmax())] is Verdict.UNRELATED


def test_challenge_set_well_above_chance(judge: NormJudge) -> None:
    """The hand-written challenge set (3 classes, chance 1/3; the MFD lexicon baseline gets ~0.41)."""
    items = [json.loads(line) for line in (DATA / "challenge.jsonl").read_text().splitlines() if line.strip()]
    probs = _probs(judge, [i["norm"] for i in items], [i["text"] for i in items])
    predicted = [LABELS[int(i)].value for i in probs.argmax(1)]
    accuracy = np.mean([p == i["label"] for p, i in zip(predicted, items, strict=True)])
    neutral = [p == "unrelated" for p, i in zip(predicted, items, strict=True) if i["kind"] == "neutral"]
    assert accuracy >= 0.42
    assert all(neutral), "a neutral sentence was judged related to a norm"


def test_probabilities_are_distributions_and_deterministic(judge: NormJudge) -> None:
    norms = judge.embed_norms(["It's wrong to steal.", "You should keep your promises.", "Be kind."])
    sentences = judge.embed_sentences(["I took the money from her purse.", "I showed up as I said I would."])
    pairs = [(0, 0), (1, 1), (0, 1), (2, 0)]
    first = judge.judge(norms, sentences, pairs)
    assert first.shape == (4, 3)
    assert np.all(first >= 0) and np.allclose(first.sum(axis=1), 1.0, atol=1e-6)
    assert np.array_equal(first, judge.judge(norms, sentences, pairs))
    # A pair's probabilities do not depend on the other pairs judged with it.
    assert np.allclose(judge.judge(norms, sentences, [(1, 1)])[0], first[1], atol=1e-6)


def test_norm_vectors_carry_the_retrieval_vector(judge: NormJudge) -> None:
    from normkg.reasoning.encoder import get_encoder

    text = "It's rude to interrupt people."
    vectors = judge.embed_norms([text, "Not a rule at all"])
    assert vectors.shape == (2, NORM_DIM)
    assert np.allclose(retrieval_vectors(vectors)[0], get_encoder(judge.adapter).encode([text])[0], atol=1e-5)
    assert not vectors[1, 384:1152].any(), "an unparsable norm has no stance prototypes"


def test_shipped_judge_is_the_one_its_manifest_describes(judge: NormJudge) -> None:
    """judge-5: the frozen encoder (no adapter), negated sentences read as their affirmative, advice,
    neutral sentences beside their closest norms."""
    from normkg.reasoning.encoder import get_encoder

    assert judge.manifest["model_version"] == "judge-5" and judge.manifest["adapter"] is None
    assert judge.manifest["hyperparameters"]["advice"] is True
    assert judge.manifest["hyperparameters"]["neutral_near"] == 8
    assert judge.adapter is None and judge.negation == "rewrite"
    text = ["Brian drags his hose next door and puts out the fire at his neighbour's house."]
    assert np.allclose(judge.embed_sentences(text)[0], get_encoder().encode(text)[0], atol=1e-6)
    reading = judge.read(["I won't help you cheat.", "I will help you cheat."])
    assert reading.negations[0] is not None and reading.negations[1] is None
    assert np.allclose(reading.judged[0], reading.vectors[1], atol=1e-6), "the affirmative was not read"


def test_a_broken_adapter_folder_is_a_config_error(tmp_path: Path) -> None:
    from normkg.reasoning.encoder import Encoder

    with pytest.raises(ConfigError, match="adapter_config.json"):
        Encoder(adapter=tmp_path)
    (tmp_path / "adapter_config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=str(tmp_path)):
        Encoder(adapter=tmp_path)


def test_bad_shapes_and_pairs_are_input_errors(judge: NormJudge) -> None:
    norms = judge.embed_norms(["It's wrong to steal."])
    sentences = judge.embed_sentences(["I stole it."])
    with pytest.raises(InputError, match="norm vectors"):
        judge.judge(sentences, sentences)
    with pytest.raises(InputError, match="outside"):
        judge.judge(norms, sentences, [(1, 0)])
    with pytest.raises(InputError, match="kinds"):
        judge.embed_norms(["It's wrong to steal."], kinds=[None, None])


@pytest.mark.parametrize(
    ("text", "kind", "core"),
    [
        ("It's wrong to cheat on exams.", Deontic.PROSCRIBE, "cheat on exams"),
        ("You should keep your promises.", Deontic.PRESCRIBE, "keep your promises"),
        (
            "It's good not to hide things from your friends.",
            Deontic.PROSCRIBE,
            "hide things from your friends",
        ),
        ("It's not okay to yell at waiters.", Deontic.PROSCRIBE, "yell at waiters"),
        ("You shouldn't lie.", Deontic.PROSCRIBE, "lie"),
        ("It is okay to feel nervous.", Deontic.PERMIT, "feel nervous"),
        # abstaining from an act is not doing it: the rule is about the act
        ("It is good to refrain from cheating", Deontic.PROSCRIBE, "cheat"),
        ("You should stop making excuses.", Deontic.PROSCRIBE, "make excuses"),
        ("It's wrong to stop helping your friends.", Deontic.PRESCRIBE, "help your friends"),
        ("It is good to avoid conflict with friends", Deontic.PRESCRIBE, "avoid conflict with friends"),
        ("You should avoid anything dangerous.", Deontic.PRESCRIBE, "avoid anything dangerous"),
    ],
)
def test_parse_norm(text: str, kind: Deontic, core: str) -> None:
    parsed = parse_norm(text)
    assert parsed is not None and (parsed.kind, parsed.core) == (kind, core)


def test_parse_norm_gives_up_on_unusual_wording() -> None:
    assert parse_norm("Taking extra without permission is greedy.") is None


def test_bad_rows_are_reported_with_file_and_line_and_good_rows_kept(tmp_path: Path) -> None:
    stories = tmp_path / "dev.jsonl"
    good = (MINI / "moral-stories" / "dev.jsonl").read_text().splitlines()[:4]
    stories.write_text("\n".join([good[0], good[1], "{not json", good[2], good[3]]) + "\n")
    issues: list[str] = []
    items = read_moral_stories(stories, issues)
    assert len(items) == 2 and len(issues) == 1 and f"{stories}:3:" in issues[0]

    rules = tmp_path / "obligatory_sc101.csv"
    lines = (MINI / "social-chem-101" / "obligatory_sc101.csv").read_text().splitlines()
    rules.write_text("\n".join([lines[0], lines[1], ",".join(["x"] * 5), lines[2]]) + "\n")
    issues = []
    assert len(read_social_chem([rules], issues)) == 2
    assert len(issues) == 1 and f"{rules}:3:" in issues[0]

    dic = tmp_path / "mfd.dic"
    dic.write_text("%\n1\tcare.virtue\n2\tcare.vice\n%\nkindness\t1\ncruelty\t7\nharm\t2\n")
    issues = []
    assert read_mfd(dic, issues) == {"kindness": {"care.virtue"}, "harm": {"care.vice"}}
    assert len(issues) == 1 and f"{dic}:6:" in issues[0]


def test_training_is_reproducible_with_a_fixed_seed(tmp_path: Path) -> None:
    hp = HyperParameters(epochs=2, hidden=16, adapter=AdapterParameters(epochs=2))
    data = build_training_data(MINI, seed=5, hp=hp, cache_dir=tmp_path / "cache")
    assert {"ms", "sc", "unrelated-ms", "neutral", "neutral-near"} <= set(data.sources)
    features, weights = data.features(), data.weights(hp.ms_weight)
    first = fit_head(features, data.labels, weights, seed=5, hp=hp)
    again = fit_head(features, data.labels, weights, seed=5, hp=hp)
    other = fit_head(features, data.labels, weights, seed=6, hp=hp)
    assert np.array_equal(first.w1, again.w1) and np.array_equal(first.w2, again.w2)
    assert not np.array_equal(first.w1, other.w1)

    manifest_a = train(tmp_path / "a", seed=5, folds=2, data_dir=MINI, cache_dir=tmp_path / "cache", hp=hp)
    manifest_b = train(tmp_path / "b", seed=5, folds=2, data_dir=MINI, cache_dir=tmp_path / "cache", hp=hp)
    assert manifest_a["weights_sha256"] == manifest_b["weights_sha256"]
    assert [f["file"] for f in manifest_a["training_data"]] == [
        "moral-stories/dev.jsonl",
        "social-chem-101/obligatory_sc101.csv",
        "social-chem-101/optional_sc101.csv",
    ]
    assert manifest_a["adapter"] == manifest_b["adapter"], "the LoRA adapter is not reproducible"
    loaded = NormJudge.load(tmp_path / "a")
    assert loaded.manifest["seed"] == 5 and loaded.weights.w1.shape[1] == 16
    assert loaded.adapter == tmp_path / "a" / "adapter"
    from normkg.reasoning.encoder import model_path

    for text_file in ("adapter_config.json", "README.md"):
        assert str(model_path()) not in (loaded.adapter / text_file).read_text(), "a machine path is shipped"
    import shutil

    shutil.copytree(tmp_path / "a", tmp_path / "c")
    (tmp_path / "c" / "adapter" / "adapter_model.safetensors").write_bytes(b"not the trained adapter")
    with pytest.raises(ConfigError, match="adapter_model.safetensors: its sha256 differs"):
        NormJudge.load(tmp_path / "c")

    # Without an adapter (epochs=0) the judge is the frozen-encoder one, and an old adapter is removed.
    frozen = train(
        tmp_path / "a",
        seed=5,
        folds=2,
        data_dir=MINI,
        cache_dir=tmp_path / "cache",
        hp=HyperParameters(epochs=2, hidden=16, adapter=AdapterParameters(epochs=0)),
    )
    assert frozen["adapter"] is None and not (tmp_path / "a" / "adapter").exists()
    assert NormJudge.load(tmp_path / "a").adapter is None


def test_stance_triples_put_the_refusal_of_a_ban_on_the_compliant_side() -> None:
    ban, duty = "It's wrong to cheat.", "You should help your friends."
    pairs = [
        Pair(ban, "I will cheat.", Verdict.VIOLATES, "ban", "ms-tmpl"),
        Pair(ban, "I won't cheat.", Verdict.FOLLOWS, "ban", "ms-tmpl"),
        Pair(duty, "I help my friends.", Verdict.FOLLOWS, "duty", "sc"),
        Pair(duty, "I refuse to help my friends.", Verdict.VIOLATES, "duty", "sc"),
        Pair("It's okay to rest.", "I rest.", Verdict.FOLLOWS, "permit", "sc"),  # no violating side
        Pair(ban, "The train leaves at 7.", Verdict.UNRELATED, "ban", "unrelated-ms"),
        Pair("It's bad to help your friends.", "I help.", Verdict.VIOLATES, "flip", "sc-flip"),
    ]
    assert stance_triples(pairs) == [
        ("ban", AdapterTriple(ban, "I won't cheat.", "I will cheat.")),
        ("duty", AdapterTriple(duty, "I help my friends.", "I refuse to help my friends.")),
    ]


def test_a_failed_training_run_leaves_the_old_model_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from normkg.reasoning import training

    hp = HyperParameters(epochs=1, hidden=8, adapter=AdapterParameters(epochs=1))
    out = tmp_path / "model"
    train(out, seed=5, folds=2, data_dir=MINI, cache_dir=tmp_path / "cache", hp=hp)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def disk_full(path: Path) -> str:  # fails once the new adapter and head are written
        raise OSError(f"{path}: input/output error")

    monkeypatch.setattr(training, "file_sha256", disk_full)
    with pytest.raises(OSError, match="input/output error"):
        train(out, seed=6, folds=2, data_dir=MINI, cache_dir=tmp_path / "cache", hp=hp)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before, "the old model (adapter included) was changed by a failed run"
    assert {p.name for p in tmp_path.iterdir()} == {"model", "cache"}, "a staging folder was left behind"


def test_training_with_negation_rewrite_learns_affirmatives_with_swapped_labels(tmp_path: Path) -> None:
    """With negation="rewrite" the head learns each negated sentence as its affirmative with violates and
    follows swapped, the baselines still read the sentence as written, and the judge it writes reads
    negations the same way at check time."""
    from normkg.reasoning.negation import judged_text

    hp = HyperParameters(epochs=1, hidden=8, adapter=AdapterParameters(epochs=0), negation="rewrite")
    data = build_training_data(MINI, seed=5, hp=hp, cache_dir=tmp_path / "cache")
    assert data.reversed.any() and not data.reversed.all()
    head_labels = data.head_labels()
    for row in np.flatnonzero(data.reversed)[:50]:
        pair = data.pairs[row]
        affirmative, flipped = judged_text(pair.text)
        assert flipped and data.sentence_list[data.judged_index[row]] == affirmative
        assert data.sentence_list[data.sentence_index[row]] == pair.text
        assert LABELS[head_labels[row]] is {
            Verdict.VIOLATES: Verdict.FOLLOWS,
            Verdict.FOLLOWS: Verdict.VIOLATES,
        }.get(pair.label, pair.label)
    kept = ~data.reversed
    assert np.array_equal(head_labels[kept], data.labels[kept])
    assert np.array_equal(data.judged_index[kept], data.sentence_index[kept])

    manifest = train(tmp_path / "m", seed=5, folds=2, data_dir=MINI, cache_dir=tmp_path / "cache", hp=hp)
    assert manifest["negation"] == "rewrite" and manifest["cross_validation"]["reversed_pairs"] > 0
    loaded = NormJudge.load(tmp_path / "m")
    assert loaded.negation == "rewrite" and loaded.negation_of("I won't cheat.") is not None


def test_a_head_from_another_run_is_refused(tmp_path: Path) -> None:
    """The manifest's checksum ties the head to the run that trained it (the adapter's: in the
    reproducibility test, which trains one)."""
    import shutil

    from normkg.reasoning.judge import MODEL_DIR

    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    assert NormJudge.load(model).manifest == NormJudge.load().manifest, "an intact copy loads"
    weights = np.load(model / "judge.npz")
    changed = {k: weights[k] for k in weights.files}
    changed["b2"] = changed["b2"] + 1.0
    np.savez_compressed(model / "judge.npz", **changed)
    with pytest.raises(ConfigError, match="judge.npz: its sha256 differs"):
        NormJudge.load(model)
    shutil.copy(MODEL_DIR / "judge.npz", model / "judge.npz")
    assert NormJudge.load(model).weights.temperature == NormJudge.load().weights.temperature


def test_a_graph_judgment_of_a_negated_rule_is_about_not_doing_its_core(judge: NormJudge) -> None:
    """Social-Chem judges "It's honorable to not cheat on a test" *good*: good is not cheating, so the
    norm proscribes its parsed core "cheat on a test" (it used to be read as prescribing cheating)."""
    text = "It's honorable to not cheat on a test."
    parsed = parse_norm(text)
    assert parsed is not None and parsed.negated and parsed.kind is Deontic.PROSCRIBE
    given = judge.embed_norms([text], [Deontic.PRESCRIBE])
    assert np.array_equal(given, judge.embed_norms([text])), "the graph's judgment changed the kind"
    probs = judge.judge_reading(given, judge.read(["Sure, here's how to cheat on your test."]), [0])[0]
    assert probs[0] > probs[1], "doing the banned act should violate"


def test_refusing_the_act_a_rule_abstains_from_follows_it(judge: NormJudge) -> None:
    """ "It is good to refrain from cheating" (judged good in the graph) bans cheating: a refusal to
    help cheat follows it (it was read as prescribing "refrain from cheating", and violated, p 1.00)."""
    norm = judge.embed_norms(["It is good to refrain from cheating"], [Deontic.PRESCRIBE])
    reading = judge.read(["I won't help you cheat.", "Sure, here's how to cheat on the test."])
    refusal, help_ = judge.judge_reading(np.vstack([norm, norm]), reading, [0, 1])
    assert refusal[1] > refusal[0] and help_[0] > help_[1]


def test_declining_a_permitted_act_takes_no_stance(judge: NormJudge) -> None:
    norms = judge.embed_norms(["It's okay to eat dessert first.", "It's wrong to eat dessert first."])
    reading = judge.read(["I won't eat dessert first.", "I won't eat dessert first."])
    permit, ban = judge.judge_reading(norms, reading, [0, 1])
    assert permit.tolist() == [0.0, 0.0, 1.0]
    assert ban[1] > ban[0], "refusing a banned act follows the ban"


def test_a_rule_that_abstains_pairs_doing_the_act_with_violates() -> None:
    """For "It is good to refrain from cheating" the act is cheating: the sentences that do it violate
    the rule, and Social-Chem's gerund ("refraining from cheating") never stands for doing it."""
    from normkg.reasoning.training import SCItem, social_chem_pairs

    item = SCItem("It is good to refrain from cheating", "refraining from cheating", optional=False)
    for seed in range(20):  # the gerund is picked for 30 % of the rules
        pairs = social_chem_pairs([item], random.Random(seed), flip=True)
        own = [p for p in pairs if p.norm == item.rot]
        assert {p.label for p in own} == {Verdict.VIOLATES, Verdict.FOLLOWS}
        assert all("refraining" not in p.text for p in own)
        doing = next(p for p in own if p.label is Verdict.VIOLATES)
        assert "cheat" in doing.text and find_negation(doing.text) is None


def test_a_neutral_sentence_is_paired_with_the_norms_closest_to_it_as_unrelated() -> None:
    """What a check does with a factual sentence: the closest norms, not random ones, are its candidates."""
    from normkg.reasoning.encoder import get_encoder
    from normkg.reasoning.training import neutral_near_pairs

    sentences = ["The Honda Civic gets about 36 miles per gallon on the highway.", "The recipe needs flour."]
    norms = [
        ("You should drive safely on the highway.", "g-drive"),
        ("It's wrong to cheat on exams.", "g-cheat"),
        ("It is kind to cook for your friends.", "g-cook"),
        ("You should keep your car in good repair.", "g-car"),
    ]
    encoder = get_encoder()
    pairs = neutral_near_pairs(
        sentences, encoder.encode(sentences), norms, encoder.encode([n for n, _ in norms]), k=2
    )
    assert [p.text for p in pairs] == [sentences[0]] * 2 + [sentences[1]] * 2
    assert {p.group for p in pairs[:2]} == {"g-drive", "g-car"}
    assert pairs[2].group == "g-cook"
    assert all(p.label is Verdict.UNRELATED and p.source == "neutral-near" for p in pairs)
    assert neutral_near_pairs(sentences, encoder.encode(sentences), [], np.zeros((0, 384)), k=2) == []
