"""reviewwatch: online review monitoring and sentiment, claimed versus perceived service."""
