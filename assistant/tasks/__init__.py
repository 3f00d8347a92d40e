"""Task helpers for 민원 work: personal-data masking, 민원 classification and statutory deadlines."""
