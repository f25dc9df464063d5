def fizzbuzz(n: int) -> str:
    """Return "Fizz", "Buzz", "FizzBuzz" or the number itself, as text."""
    raise NotImplementedError
