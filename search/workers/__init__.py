"""Workers: processes on one machine sharing one study through its storage."""
