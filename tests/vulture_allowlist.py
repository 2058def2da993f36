"""Names vulture cannot see used: called by a framework (click/typer hooks, dataclass fields read by name).

Read by vulture (pyproject [tool.vulture]), never imported: instance attributes are named on their class.
"""
# ruff: noqa: B018 -- a vulture allowlist is a list of bare attribute references

from shortvid_analytics.ab.stats import Comparison
from shortvid_analytics.cli import ShortvidCommand, _global, _LazyCommands
from shortvid_analytics.cli.ab import CorrectionChoice, MethodChoice
from shortvid_analytics.cli.demo import demo
from shortvid_analytics.cli.kpi import kpi
from shortvid_analytics.files import _ErrnoKeepingFile
from shortvid_analytics.kpi import compute_table
from shortvid_analytics.options.retention import RetentionMode
from shortvid_analytics.render.digest import _Ticks
from shortvid_analytics.report.build import BuiltSection
from shortvid_analytics.report.content import Figure, Table
from shortvid_analytics.report.spec import ReportSpec
from shortvid_analytics.synth.generator import GenerationSummary

# click calls these hooks of the command classes while parsing and printing help
ShortvidCommand.collect_usage_pieces
_LazyCommands.list_commands
# click reads a command's short_help for the command list of ``shortvid --help``
ShortvidCommand.short_help
# typer registers these through their decorators (@app.callback, @app.command)
_global
demo
# typer offers the members of a choice Enum by value (``--correction bh``, ``--mode first-time``)
CorrectionChoice.bh
MethodChoice.sequential
RetentionMode.first_time
# inspect.signature reads __signature__: typer builds the options of an options_command from it (cli/common.py)
kpi.__signature__
# io.RawIOBase's buffered writers ask writable() before writing through the file
_ErrnoKeepingFile.writable
# matplotlib's Formatter API: the axis calls format_ticks for all tick labels at once
_Ticks.format_ticks
# fields of the ab JSON result, serialised by name (tests/golden/outputs/ab_*.json)
Comparison.abs_ci_low
Comparison.abs_ci_high
Comparison.variance_reduction
# read by the report's Jinja templates (reports/templates/macros.html, base.html)
BuiltSection.intro_html
Table.wide
Table.narrow
Table.numeric_columns
Figure.data_uri
ReportSpec.lang
# library API: the KPI table for a period, as `shortvid kpi` computes it (tests/test_kpi.py, test_spark.py)
compute_table
# part of what synth.generate reports it wrote, beside the other output paths
GenerationSummary.creators_path
