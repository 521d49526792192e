"""The catalogues: same keys and placeholders in every language, every key the code uses defined,
English fallback, the seed's terms, and errors that can be shown in the reader's language."""

import itertools
import pickle
import re
import string
from pathlib import Path

import pytest

from lenet_viz import i18n
from lenet_viz.arithmetic import Layer, LayerError, conv_output_size, coverage_warning, formula_line
from lenet_viz.data import DATASETS
from lenet_viz.i18n import LANGS, Msg, catalogue, class_name, count_text, language_of, t
from lenet_viz.models import PRESETS, SpecError, layer_plan

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "lenet_viz").rglob("*.py")), *sorted((ROOT / "app_pages").rglob("*.py")),
           ROOT / "streamlit_app.py"]  # rglob: lenet_viz/figures/ and any package added later
# Keys written literally in the code: t("…"), tr("…"), Msg("…"), .keyed("…").
LITERAL_KEY = re.compile(r"""\b(?:t|tr|Msg|keyed)\(\s*["']([a-z_]+\.[A-Za-z0-9_./ -]+)["']""")
# Values a translation may keep as they are: names and symbols (LeNet, ReLU, …) and punctuation.
SAME_IN_EVERY_LANGUAGE = {"kind.sigmoid", "kind.relu", "kind.tanh", "layer_kind.sigmoid", "layer_kind.relu",
                          "layer_kind.tanh", "coverage.layer"}


# Chinese text's punctuation, ideographs and full-width forms: after one of them a colon is "："
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# An ASCII colon ending a label: right after a Chinese character (Markdown emphasis or a space may come
# between: "**参数量**: 60"), or before a space ("{label}: {value}", "0: 2.02"). Not a time (12:30), a
# URL (https://), an icon (:material/check:) or a format field's spec ({value:.2f}), which
# :func:`ascii_colons` takes out first.
LABEL_COLON = re.compile(rf"[{CJK}][*_`\s]*:|:\s")
FORMAT_FIELD = re.compile(r"\{[^{}]*\}")


def ascii_colons(text: str) -> list[str]:
    """Where Chinese ``text`` ends a label with an ASCII colon (a few characters around each)."""
    plain = FORMAT_FIELD.sub("{}", text)
    return [plain[max(0, m.start() - 8):m.end() + 8] for m in LABEL_COLON.finditer(plain)]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_language_has_the_same_keys():
    english = set(catalogue("en"))
    for lang in LANGS:
        assert set(catalogue(lang)) == english, lang


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_are_named_and_the_same_as_in_english(lang):
    for key, text in catalogue(lang).items():
        names = placeholders(text)
        assert all(name and not name.isdigit() for name in names), (key, text)
        assert names == placeholders(catalogue("en")[key]), (lang, key)


def test_every_key_the_code_uses_is_in_the_catalogue():
    found = {path: set(LITERAL_KEY.findall(path.read_text(encoding="utf-8"))) for path in SOURCES}
    used = set().union(*found.values())
    assert len(used) > 100  # the pattern still finds the calls
    assert len(set().union(*(keys for path, keys in found.items() if path.parent.name == "figures"))) > 20
    assert sorted(key for key in used if key not in catalogue("en")) == []


# --- the in-browser views' words -------------------------------------------------------------------
NETVIEW = ROOT / "lenet_viz" / "netview"
FEATURE_MAPS_ONLY = {"view.js", "lenet.js"}  # their words come from netview_component.view_texts (nv.*)
REPLAY_ONLY = {"replay.js"}  # from replay_component.view_texts (rp.*)
BOTH = {"index.js", "payload.js", "draw.js"}  # loaded by both views: each view's texts must have their words
KEY_PREFIXES = {"backprop.js": "learn.why_"}  # its explanations' keys are suffixes learn.js completes
TEACH = {"teach.js"}  # from teach_component's texts (teach.*); the live view it mounts has its own


def _arguments(source: str, start: int) -> list[str]:
    """The top-level arguments of the call whose ``(`` is at ``start`` (strings and brackets respected)."""
    args, depth, quote, begin = [], 0, None, start + 1
    for i in range(start, len(source)):
        c = source[i]
        if quote:
            quote = None if c == quote and source[i - 1] != "\\" else quote
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return [*args, source[begin:i].strip()]
        elif c == "," and depth == 1:
            args.append(source[begin:i].strip())
            begin = i + 1
    return args


def _fixed_keys(expression: str) -> set[str]:
    """The keys an expression can give: its string literals, and every combination of a template whose
    ``${…}`` parts each choose between literals (`f_conv${a ? "" : "_one"}`); names from data give none."""
    expression = re.sub(r'(===|!==|==|!=)\s*"[^"]*"|"[^"]*"\s*(===|!==|==|!=)', "", expression)  # a test, not a key
    keys = set(re.findall(r'"([a-z][a-z0-9_]*)"', re.sub(r"`[^`]*`", "", expression)))
    for template in re.findall(r"`([^`]*)`", expression):
        parts = re.split(r"\$\{([^}]*)\}", template)
        options = [[part] if i % 2 == 0 else re.findall(r'"([^"]*)"', part) for i, part in enumerate(parts)]
        if all(options):
            keys |= {"".join(choice) for choice in itertools.product(*options)}
    return keys


def js_keys(source: str) -> set[str]:
    """Catalogue keys a view's module asks for: ``say(texts, KEY…)``, ``new PayloadError(KEY…)``,
    ``{ key: KEY… }`` (a unit's explanation) and ``[node, "key"]`` pairs (fixed words, aria-labels)."""
    keys = set()
    for call in re.finditer(r"\b(say|PayloadError)\(", source):
        args = _arguments(source, call.end() - 1)
        position = 1 if call.group(1) == "say" else 0
        if len(args) > position:
            keys |= _fixed_keys(args[position])
    for match in re.finditer(r"\bkey:\s*", source):
        expression = _arguments("(" + source[match.end():], 0)[0]  # up to the next top-level comma
        keys |= _fixed_keys(expression)
    keys |= set(re.findall(r'\[\s*[A-Za-z_][\w.]*\s*,\s*"([a-z][a-z0-9_]*)"\s*\]', source))
    return keys


def test_the_key_scan_reads_each_way_a_view_asks_for_words():
    source = """say(view.data?.texts, n > 1 ? "reads" : "reads_one", { count: n });
    words = { key: `f_conv${cin > 1 ? "" : "_one"}${padded ? "_padded" : ""}`, values: { k } };
    words = { key: layer.kind === "maxpool" ? "f_max" : "f_mean", values: { k } };
    throw new PayloadError("payload_newer", { got: 2 }); say(texts, error.key); [[penButton, "pen"], [x, "undo"]];
    texts?.[`kind.${layer.kind}`]"""
    assert js_keys(source) == {"reads", "reads_one", "f_conv", "f_conv_padded", "f_conv_one", "f_conv_one_padded",
                               "f_max", "f_mean", "payload_newer", "pen", "undo"}


def test_every_word_the_in_browser_views_ask_for_is_sent_to_them():
    """A key missing from the texts a view gets shows up as the bare key (``scale_layer``) on the page."""
    from lenet_viz import netview_component, replay_component, teach_component

    feature_maps, replay = set(netview_component.view_texts("en")), set(replay_component.view_texts("en"))
    teach = set(teach_component.teach_texts("en"))
    missing, asked = [], 0
    for path in sorted(NETVIEW.glob("*.js")):
        keys = {KEY_PREFIXES.get(path.name, "") + key for key in js_keys(path.read_text(encoding="utf-8"))}
        asked += len(keys)
        if path.name in FEATURE_MAPS_ONLY | BOTH:
            missing += [f"{path.name}: {key} (Feature maps view)" for key in keys - feature_maps]
        if path.name in REPLAY_ONLY | BOTH:
            missing += [f"{path.name}: {key} (replay view)" for key in keys - replay]
        if path.name in TEACH:
            missing += [f"{path.name}: {key} (Teach page)" for key in keys - teach]
        if path.name not in FEATURE_MAPS_ONLY | REPLAY_ONLY | BOTH | TEACH:  # a new module: in some view's words
            missing += [f"{path.name}: {key}" for key in keys - feature_maps - replay]
    assert asked > 40  # the scan still finds what the views ask for
    assert missing == []
    kinds = {f"kind.{row.kind}" for preset in PRESETS.values() for row in layer_plan(preset).layers
             if row.kind != "flatten"}  # the views draw every layer but flatten (draw.js, shownLayers)
    assert sorted(kinds - feature_maps) == [] and sorted(kinds - replay) == []  # layer titles: `kind.${layer.kind}`


def test_the_views_leave_the_colon_after_a_label_to_the_catalogue():
    """A view that writes `${t("label")}: ${value}` shows an ASCII colon in Chinese: the catalogue's text
    holds the colon, and the value is a placeholder ("…：{title}"). A time's `${m}:${s}` is no label."""
    joined = [f"{path.name}: {line.strip()}" for path in sorted(NETVIEW.glob("*.js"))
              for line in path.read_text(encoding="utf-8").splitlines() if re.search(r"\}:\s+\$\{", line)]
    assert joined == []


def test_keys_built_from_names_exist():
    kinds = {"conv", "maxpool", "avgpool", "convtranspose"}
    keys = {f"step.{k}" for k in kinds} | {f"coverage.axis_{a}" for a in ("rows", "columns", "rows_and_columns")}
    keys |= {f"kind.{row.kind}" for preset in PRESETS.values() for row in layer_plan(preset).layers}
    keys |= {f"curve.{c}" for c in ("train_loss", "train_acc", "test_acc")}
    keys |= {f"class.{name}" for name in DATASETS["fashion-mnist"]["classes"]}
    assert sorted(keys - set(catalogue("en"))) == []


def test_chinese_translates_every_sentence():
    english, chinese = catalogue("en"), catalogue("zh")
    kept = {key for key in english if chinese[key] == english[key] and re.search(r"[A-Za-z]{3}", english[key])}
    assert kept <= SAME_IN_EVERY_LANGUAGE


def test_chinese_ends_labels_with_a_full_width_colon():
    found = {key: ascii_colons(text) for key, text in catalogue("zh").items() if ascii_colons(text)}
    assert found == {}
    for wrong in ("参数量: 60", "**输出的高（= 宽）**: 5", "内置模型（替换最后一层）:{title}", "{label}: {value}",
                  "最大差值分别是 0: 0, 1: 2.02"):
        assert ascii_colons(wrong), wrong
    for right in ("参数量：60", "权重 %{customdata[2]:.4g}", "{value:.2f} 秒", "12:30 见 https://example.com",
                  ":material/check:", "卷积核 {kernel}：{difference}"):
        assert ascii_colons(right) == [], right


def test_a_list_is_joined_with_the_readers_punctuation():
    reads = i18n.Msgs([Msg("lesson.stride.read", output=0, cells=i18n.Msgs(["-1", "0", "1"])),
                       Msg("lesson.stride.read", output=1, cells=i18n.Msgs(["1", "2", "3"]))],
                      separator="list.semicolon")
    assert reads == "0: -1, 0, 1; 1: 1, 2, 3"  # its English text, as for a Msg
    assert reads.text("zh") == "输出 0：-1、0、1；输出 1：1、2、3"
    assert pickle.loads(pickle.dumps(reads)).text("zh") == reads.text("zh")  # kept in the session, it stays a list


def test_chinese_uses_the_seed_and_d2l_terms():
    text = "".join(catalogue("zh").values())
    terms = "卷积层 池化 填充 步幅 卷积核 特征图 感受野 全连接层 训练损失 训练准确率 测试准确率".split()
    for term in terms:
        assert term in text, term
    for other, ours in (("步长", "步幅"), ("内核", "卷积核"), ("特征映射", "特征图"), ("精度", "准确率")):
        assert other not in text, f"{other}: say {ours}"


RANDOM_SEED_KEYS = {"lesson.compare.setting.seed"}  # a run's random seed, shown as "seed=3"


def test_the_source_is_named_not_called_the_seed():
    # a student reads "the seed" as a random seed: texts name d2l's LeNet chapter (Dive into Deep Learning)
    # instead; "seed-nopad" is a preset's name, and a random seed stays a seed
    for lang, word in (("en", r"\bseed\b(?!-nopad)"), ("zh", "种子|原文")):
        said = {key for key, text in catalogue(lang).items() if re.search(word, text, re.IGNORECASE)}
        assert said <= RANDOM_SEED_KEYS, (lang, said - RANDOM_SEED_KEYS)
    assert "d2l's LeNet chapter" in t("train.intro", "en") and "《动手学深度学习》" in t("train.intro", "zh")


CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’《》]"  # Chinese characters and punctuation


def test_chinese_has_no_space_between_chinese_words():
    # "平均 池化", "的 梯度": Chinese runs its words together; spaces stay around ASCII words, numbers and
    # placeholders ("步幅 2", "{count} 个"). Bold marks (**) are looked through: "的 **平均** 池化" reads "的 平均 池化"
    spaced = {key: text for key, text in catalogue("zh").items()
              if re.search(f"{CJK} +{CJK}", text.replace("**", ""))}
    assert spaced == {}
    assert t("fm.checkpoint_error", "zh", error="坏了。") == "坏了。当前模型保持不变。"


def test_missing_translation_falls_back_to_english(monkeypatch):
    monkeypatch.setitem(catalogue("zh"), "nav.train", None)
    monkeypatch.delitem(catalogue("zh"), "nav.train")
    assert t("nav.train", "zh") == "Train"
    assert t("nav.train", "xx") == "Train"  # an unknown language too
    with pytest.raises(KeyError):
        t("no.such.key", "zh")


def test_values_fill_named_placeholders():
    assert t("panel.input", "en", height=3, width=4, extra="") == "Input 3×4"
    assert t("panel.input", "zh", width=4, height=3, extra="") == "输入 3×4"


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh"), ("zh_TW", "zh"), ("ZH", "zh"), ("en-GB", "en"),
                                              ("fr-FR", "en"), ("", "en"), (None, "en")])
def test_browser_locale_picks_the_language(locale, lang):
    assert language_of(locale) == lang


def test_fashion_mnist_classes_in_chinese_digits_unchanged():
    assert [class_name(c, "zh") for c in DATASETS["fashion-mnist"]["classes"][:2]] == ["T恤", "裤子"]
    assert class_name("Trouser", "en") == "Trouser"
    assert class_name("7", "zh") == "7"


def test_an_error_is_english_in_str_and_translated_on_request():
    with pytest.raises(LayerError) as caught:
        conv_output_size(28, 0)
    assert str(caught.value) == "kernel size must be at least 1, got 0."
    assert caught.value.text("zh") == "卷积核大小至少为 1，当前为 0。"
    assert isinstance(caught.value, ValueError)


def test_a_wrapped_error_is_translated_with_its_cause():
    spec = PRESETS["classic"].with_block(1, kernel=15)
    with pytest.raises(SpecError) as caught:
        layer_plan(spec)
    assert str(caught.value).startswith("conv2 cannot be built on a 14×14 input: kernel size too large")
    zh = caught.value.text("zh")
    assert zh.startswith("conv2 无法在 14×14 的输入上构建：卷积核太大") and "kernel" not in zh


def test_coverage_warning_in_chinese_has_no_english_words():
    warning = coverage_warning(Layer("maxpool", 2, 2), 7, "rows", "zh")
    assert "向上取整模式" in warning
    assert not re.search(r"[A-Za-z]{3}", warning.replace("ceil", ""))


def test_msg_is_translated_when_shown():
    assert Msg("param.stride").text("zh") == "步幅"
    assert i18n.t("error.at_least_1", "zh", name=Msg("param.stride"), value=0) == "步幅至少为 1，当前为 0。"


def test_formula_note_stays_on_one_line_in_chinese():
    layer = Layer("maxpool", 2, 2, 1, ceil_mode=True)  # on 5 cells the last window would start in the padding
    assert r"\substack" in formula_line(layer, 5, "H", "en")
    chinese = formula_line(layer, 5, "H", "zh")
    assert r"\text{最后一个窗口从填充开始}" in chinese and r"\substack" not in chinese


def test_library_messages_come_in_chinese_and_stay_english_as_text():
    """Training, checkpoint and link messages are keyed: the CLI prints their English, a page shows Chinese."""
    from lenet_viz.advice import divergence_message, stuck_message
    from lenet_viz.checkpoints import CheckpointError, load_checkpoint
    from lenet_viz.links import parse_feature_maps, parse_output_size
    from lenet_viz.run_data import trainable_problem
    from lenet_viz.training import TrainConfig

    config = TrainConfig(optimizer="sgd", lr=0.9)
    diverged = divergence_message(config, float("nan"), 1.5, "relu")
    assert str(diverged).startswith("Training diverged at epoch 1.50: the loss is no longer a finite number.")
    assert "发散" in i18n.localize(diverged, "zh") and "finite" not in i18n.localize(diverged, "zh")
    stuck = stuck_message(config, 2.0, "relu", None)
    assert str(stuck).endswith("(or Adam with 0.001).") and "ReLU" in stuck.text("zh") and "Adam" in stuck.text("zh")
    wide = PRESETS["classic"].__class__.from_dict({**PRESETS["classic"].to_dict(), "input_size": 32, "num_classes": 5})
    problem = trainable_problem(wide)
    assert "input size 32 (needs 28), outputs 5 (needs 10)" in problem
    assert "输入尺寸为 32（需要 28）、输出数为 5（需要 10）" in i18n.localize(problem, "zh")
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(b"not a checkpoint")
    assert str(caught.value).startswith("The uploaded file is not a readable checkpoint")
    assert caught.value.text("zh").startswith("上传的文件不是可读取的检查点")
    _, notes = parse_feature_maps({"model": "resnet"}, ("digits",), 30)
    _, more = parse_output_size({"k": "x"})
    assert [i18n.localize(n, "zh") for n in (*notes, *more)] == [
        "没有名为 `resnet` 的内置模型（现有：digits）；改用默认模型。", "`k=x` 不是整数；改用 5。"]


def test_the_network_description_in_chinese():
    from lenet_viz.models import describe

    described = describe(PRESETS["classic"], "zh")
    assert described.startswith("卷积 6@5×5 填充 2 → 平均池化 2 → 卷积 16@5×5 → 平均池化 2 → 全连接")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_counts_say_one_thing_in_the_singular(lang):
    """"1 drawing", "1 epoch" (not "1 drawings"); a fraction as short as it goes; Chinese says both alike."""
    one, two = count_text("teach.n_drawings", 1, lang), count_text("teach.n_drawings", 2, lang)
    assert one == ("1 drawing" if lang == "en" else "1 幅图") and two == t("teach.n_drawings", lang, count=2)
    assert count_text("train.n_epochs", 10.0, lang) == t("train.n_epochs", lang, count=10)
    assert count_text("train.n_epochs", 2.5, lang) == t("train.n_epochs", lang, count="2.5")
    assert count_text("train.n_epochs", 1.0, lang) == t("train.n_epochs_one", lang)
