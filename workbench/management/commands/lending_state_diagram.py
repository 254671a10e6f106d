from django.core.management.base import BaseCommand

from ill.models import LendingRequest


class Command(BaseCommand):
    help = "Prints the lending request state machine as Graphviz dot text " \
           "(pipe it to `dot -Tsvg > lending.svg`)."

    def handle(self, *args, **options):
        field = LendingRequest._meta.get_field("status")
        lines = ["digraph lending {", "  rankdir=LR;", '  node [shape=box, style=rounded];']
        for value, label in LendingRequest.Status.choices:
            shape = ", peripheries=2" if value in LendingRequest.FINAL else ""
            lines.append(f'  "{value}" [label="{label}"{shape}];')
        edges = {(t.source, t.target, t.name) for t in field.get_all_transitions(LendingRequest)}
        for source, target, name in sorted(edges):
            lines.append(f'  "{source}" -> "{target}" [label="{LendingRequest.action_label(name)}"];')
        lines.append("}")
        self.stdout.write("\n".join(lines))
