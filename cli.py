import click

@click.group()
def main():
    """trialforge"""
