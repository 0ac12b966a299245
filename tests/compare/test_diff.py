from apps.compare.diff import word_diff


def test_words_only_in_the_first_text_are_deleted_and_only_in_the_second_inserted():
    diff = word_diff("a quick brown fox", "a slow brown fox jumps")
    assert diff.html == "a <del>quick </del><ins>slow </ins>brown fox <ins>jumps</ins>"
    assert diff.only_in_first == 1
    assert diff.only_in_second == 2


def test_model_output_is_escaped_inside_the_diff():
    diff = word_diff("<script>alert(1)</script> hi", "<b>bold</b> hi")
    assert "<script>" not in diff.html
    assert "&lt;script&gt;" in diff.html
    assert "&lt;b&gt;bold&lt;/b&gt;" in diff.html


def test_spacing_and_line_breaks_alone_are_not_differences():
    diff = word_diff("one two\nthree", "one  two three")
    assert diff.identical
    assert "<del>" not in diff.html and "<ins>" not in diff.html


def test_identical_texts_have_no_differences():
    assert word_diff("same words here", "same words here").identical


def test_very_long_texts_are_refused_rather_than_diffed_slowly():
    diff = word_diff("word " * 50, "other " * 50, max_words=20)
    assert diff.too_long and not diff.identical
    assert diff.html == ""


def test_a_lone_shared_word_between_two_changes_is_folded_into_one_change():
    diff = word_diff("alpha beta to gamma delta", "one two to three four")
    assert diff.html == "<del>alpha beta to gamma delta</del><ins>one two to three four</ins>"
