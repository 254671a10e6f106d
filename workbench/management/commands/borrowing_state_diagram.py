from django.core.management.base import BaseCommand

from ill.models import BorrowingRequest


class Command(BaseCommand):
    help = "Prints the borrowing request state machine as Graphviz dot text " \
           "(pipe it to `dot -Tsvg > borrowing.svg`)."

    def handle(self, *args, **options):
        field = BorrowingRequest._meta.get_field("status")
        labels = dict(BorrowingRequest.Status.choices)
        lines = ["digraph borrowing {", "  rankdir=LR;", '  node [shape=box, style=rounded];']
        for value, label in labels.items():
            shape = ', peripheries=2' if value in BorrowingRequest.FINAL else ""
            lines.append(f'  "{value}" [label="{label}"{shape}];')
        edges = set()
        for transition in field.get_all_transitions(BorrowingRequest):
            edges.add((transition.source, transition.target, transition.name))
        for source, target, name in sorted(edges):
            lines.append(f'  "{source}" -> "{target}" [label="{BorrowingRequest.action_label(name)}"];')
        lines.append("}")
        self.stdout.write("\n".join(lines))
