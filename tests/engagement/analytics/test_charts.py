"""Inline SVG charts: accessible names, a tooltip per mark, escaped text, gaps in lines."""

from engagement.admin.analytics import charts


def test_bar_chart_has_title_desc_and_a_tooltip_per_bar():
    svg = charts.bar_chart(
        title="Active <customers>", labels=["Jan", "Feb", "Mar"], values=[3, 0, 5]
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "<title" in svg
    assert "Active &lt;customers&gt;" in svg
    assert "<customers>" not in svg
    assert svg.count('<rect class="mark"') == 2  # a zero draws no bar
    assert "<title>Mar: 5</title>" in svg


def test_stacked_bars_name_each_series_in_legend_and_tooltips():
    svg = charts.stacked_bar_chart(
        title="Lifecycle", labels=["W01"], series=[("New", [1]), ("Returning", [4])]
    )
    assert "<title>W01, New: 1</title>" in svg
    assert "<title>W01, Returning: 4</title>" in svg
    assert ">Returning</text>" in svg


def test_line_chart_breaks_at_missing_values():
    svg = charts.line_chart(
        title="Rate", labels=list("abcde"), series=[("r", [0.1, 0.2, None, 0.3, 0.4])]
    )
    assert svg.count("<polyline") == 2
    assert svg.count('<circle class="mark"') == 4


def test_heat_grid_writes_each_figure_in_its_cell():
    svg = charts.heat_grid(
        title="Cohorts",
        row_labels=["Jan", "Feb"],
        col_labels=["M+0", "M+1"],
        cells=[[1.0, 0.5], [0.25]],
        fmt=lambda v: f"{v:.0%}",
    )
    assert "<title>Jan, M+1: 50%</title>" in svg
    assert ">25%</text>" in svg
    assert svg.count('<g class="mark">') == 3


def test_interval_chart_colours_by_what_the_interval_rules_out_and_says_missing():
    svg = charts.interval_chart(
        title="Uplift",
        rows=[
            ("Works <well>", 0.2, 0.1, 0.3),
            ("Unclear", 0.05, -0.02, 0.12),
            ("Harms", -0.1, -0.15, -0.05),
            ("New rule", None, None, None),
        ],
    )
    assert "Works &lt;well&gt;" in svg
    assert "<well>" not in svg
    assert svg.count('<g class="mark">') == 3
    marks = svg.split('<g class="mark">')[1:]
    assert charts.PALETTE[2] in marks[0]  # zero ruled out, above
    assert charts.PALETTE[5] in marks[1]  # zero inside the interval
    assert charts.PALETTE[3] in marks[2]  # ruled out, below
    assert "(95% interval 0.1 to 0.3)" in marks[0]
    assert svg.count('class="whisker"') == 9  # a line and two caps per interval
    assert "not enough data" in svg
