"""Statistics and inter-library billing: reports that read both sides of ILL.

On the import ladder beside `ill.inbound`, above `ill.borrowing | ill.lending` (it reads their
models and selectors, nothing below imports it); `config` (the dashboard, urls) and
`workbench` (the benchmark) sit above it.
"""
